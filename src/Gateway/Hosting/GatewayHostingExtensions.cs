using System.Text.Encodings.Web;
using Gateway.Chat;
using Gateway.Flows;
using Gateway.OpenApi;
using Gateway.Providers;
using Gateway.Runs;
using Gateway.Security;
using Gateway.Storage;
using Gateway.Streaming;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>The gateway's table of contents: what it registers and what it maps.</summary>
internal static class GatewayHostingExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.UseSettingsAtStart();
        var services = builder.Services;
        services.AddHostedService<StopSignals>();
        services.AddProblemDetails();
        services.AddExceptionHandler<GatewayExceptionHandler>();
        // /api bodies keep model text readable (don't, naïve) as /v1 does: JSON in a JSON body, never HTML.
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
        // A query value that does not bind (`?stream=maybe`) is thrown, not answered with a bare 400: the exception
        // handler then gives it the surface's error body, with the framework's message naming the parameter and value.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        // Telemetry first: hosted services stop in the reverse order of registration, so its exporters flush after
        // the runs and streams of the shutdown drain have recorded their last spans and metrics.
        builder.AddGatewayTelemetry();
        services.AddProviders(builder.Configuration);
        // Every key under Gateway is checked against the settings it binds to: the binder drops what it cannot read.
        services.AddSingleton<IValidateOptions<RoutingOptions>, GatewayConfigurationValidator>();
        services.AddGatewayOpenApi();
        // The store first: with PostgreSQL it provides the rate buckets that security would otherwise keep in memory.
        services.AddStorage(builder.Configuration);
        services.AddGatewaySecurity();
        services.AddStreaming();
        services.AddFlows();
        services.AddRuns();
        services.AddHealthChecks()
            .AddCheck<RoutingHealthCheck>("routing", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<StorageHealthCheck>("store", failureStatus: null, tags: [HealthEndpoints.ReadyTag], timeout: StorageHealthCheck.Timeout);
        return builder;
    }

    /// <summary>
    /// Starts the gateway: its checks that can run before the host (the configuration's, the store's, the replica id's)
    /// first, then the host, then the check that needs the addresses it bound. A refusal by any of them is a
    /// <see cref="StartupRefusedException"/> or an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>
    /// for the caller to say once, plainly: the host logs, with a stack trace, what fails inside its own start.
    /// </summary>
    public static async Task StartGatewayAsync(this WebApplication app)
    {
        // The configuration's shape first (GatewayConfigurationValidator, run with the routing options): the binder
        // behind every other check refuses a value it cannot convert by quoting it, and a value may be a secret.
        _ = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Providers.RoutingOptions>>().Value;
        app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
        ListenAddresses.Check(app.Configuration);
        ListenAddresses.SayIfEnvironmentUrlsUnused(app.Configuration, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ListenAddresses)));
        var bindGuard = app.Services.GetRequiredService<Security.AnonymousAccessGuard>();
        bindGuard.CheckConfigured();
        foreach (var preparation in app.Services.GetServices<IStartupPreparation>())
        {
            await preparation.PrepareAsync(CancellationToken.None);
        }

        await app.StartAsync();
        try
        {
            bindGuard.Check();
        }
        catch (StartupRefusedException)
        {
            // Started: stopped in order (the server closes its listeners) before the caller disposes it and says why.
            await app.StopAsync();
            throw;
        }
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        // Outside the exception handler, which would log its cuts as the gateway's failures (they are on purpose).
        app.UseErrorEventCuts();
        app.UseExceptionHandler();
        app.UseErrorBodies();
        // Before the OpenAPI branch, so that Swagger UI cannot be framed or sniffed either.
        app.UseSecurityHeaders();
        // Before the OpenAPI branch too: a browser app on an allowed origin fetches the document to build its client
        // (until 2026-12-06 its preflight passed, and the GET came back without Access-Control-Allow-Origin).
        app.UseCors();
        // Before security: the document and its UI are served anonymously (DESIGN §8).
        app.MapGatewayOpenApi();
        app.UseGatewaySecurity();
        // Every endpoint under one group, so that each GET, one added later too, answers HEAD as well.
        var endpoints = app.MapGroup("").AnswerHeadLikeGet();
        endpoints.MapHealthEndpoints();
        endpoints.MapMetrics();
        endpoints.MapChatApi();
        // The /api surface under one group, so that every endpoint of it, one added later too, refuses a repeated
        // query parameter (its prefix stays each endpoint's own).
        var api = endpoints.MapGroup("").RefuseRepeatedQueryParameters();
        api.MapFlowsApi();
        api.MapRunsApi();
        api.MapUsageApi();
        return app;
    }
}
