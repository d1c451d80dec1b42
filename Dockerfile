# syntax=docker/dockerfile:1
# Build: docker build -t gateway .    Run: docker run -p 8080:8080 gateway
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so the package layer is cached across source edits.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Gateway/Gateway.csproj src/Gateway/
RUN dotnet restore src/Gateway/Gateway.csproj
COPY appsettings.json ./
COPY src/ src/
RUN dotnet publish src/Gateway/Gateway.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl only for the HEALTHCHECK below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown "$APP_UID" /data
WORKDIR /app
COPY --from=build /app .
# Listen on every interface inside the container; the embedded SQLite store lives on the /data volume.
ENV Urls=http://+:8080 \
    Gateway__Storage__ConnectionString="Data Source=/data/gateway.db"
VOLUME /data
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "Gateway.dll"]
