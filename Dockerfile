# syntax=docker/dockerfile:1
# Build: docker build -t gateway .
# It listens on every interface, so it refuses to start without API keys (README, "Keys, roles and limits"):
#   docker run --rm gateway hash-key        mints a key and prints its hash
#   docker run -p 8080:8080 -v gateway-data:/data -e Gateway__Auth__Keys__0__Name=me -e Gateway__Auth__Keys__0__KeyHash=<hash> gateway
# or, on a network trusted as a whole, -e Gateway__Auth__AllowAnonymous=true.
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
# Listen on every interface inside the container (keys required, see above); the embedded SQLite store lives
# on the /data volume. The base image's ASPNETCORE_HTTP_PORTS is emptied: beside Urls (which must be set, or the
# shipped appsettings.json's loopback address would win) it only earns a warning at every start.
ENV Urls=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Gateway__Storage__ConnectionString="Data Source=/data/gateway.db"
VOLUME /data
EXPOSE 8080
USER $APP_UID
# /healthz is anonymous and never rate limited, so the probe needs no key.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "Gateway.dll"]
