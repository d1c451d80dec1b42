using Gateway.Chat;
using Gateway.OpenApi;
using Gateway.Providers;
using Gateway.Telemetry;

namespace Gateway.Hosting;

/// <summary>The gateway's table of contents: what it registers and what it maps.</summary>
internal static class GatewayHostingExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails();
        services.AddExceptionHandler<GatewayExceptionHandler>();
        services.AddProviders(builder.Configuration);
        services.AddGatewayOpenApi();
        builder.AddGatewayTelemetry();
        services.AddHealthChecks()
            .AddCheck<RoutingHealthCheck>("routing", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseErrorBodies();
        app.MapGatewayOpenApi();
        app.MapHealthEndpoints();
        app.MapMetrics();
        app.MapChatApi();
        return app;
    }
}
