using Gateway.Chat;
using Gateway.OpenApi;
using Gateway.Providers;
using Gateway.Security;

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
        services.AddGatewaySecurity();
        services.AddHealthChecks()
            .AddCheck<RoutingHealthCheck>("routing", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseErrorBodies();
        // Before security: the document and its UI are served anonymously (DESIGN §8).
        app.MapGatewayOpenApi();
        app.UseGatewaySecurity();
        app.MapHealthEndpoints();
        app.MapChatApi();
        return app;
    }
}
