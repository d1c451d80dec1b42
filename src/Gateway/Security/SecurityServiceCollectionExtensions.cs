using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Security;

internal static class SecurityServiceCollectionExtensions
{
    /// <summary>
    /// API keys and roles (<c>Gateway:Auth</c>), per-key request and token limits, CORS (<c>Gateway:Cors</c>) and
    /// request size and depth caps (<c>Gateway:Limits</c>), each validated at start-up.
    /// </summary>
    public static IServiceCollection AddGatewaySecurity(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<AnonymousAccessGuard>();

        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configureOptions: null);
        services.AddAuthorizationBuilder().AddGatewayPolicies();
        // Authentication brings data protection, which the API-key scheme never uses (no cookies, no tokens): keys in
        // memory, made when first asked for, rather than a key ring its start-up service wrote under the home directory
        // (warning at every start of a service user without one, and of keys stored unencrypted).
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        foreach (var keyRingAtStart in services.Where(service =>
            service.ServiceType == typeof(IHostedService) && service.ImplementationType?.Name == "DataProtectionHostedService").ToList())
        {
            services.Remove(keyRingAtStart);
        }

        // In this process unless the store registered buckets that every replica shares.
        services.TryAddSingleton<IRateBuckets, LocalRateBuckets>();
        services.AddSingleton<TokenBudgets>();

        services.AddOptions<GatewayCorsOptions>().BindConfiguration(GatewayCorsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayCorsOptions>, GatewayCorsOptionsValidator>();
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<GatewayCorsOptions>>((cors, gateway) =>
            cors.AddDefaultPolicy(policy => policy
                .WithOrigins([.. gateway.Value.AllowedOrigins])
                .AllowAnyMethod()
                // The origin is the boundary; SDKs in browsers send headers of their own (x-stainless-*, OpenAI-Beta).
                .AllowAnyHeader()
                // A browser app's every call is preflighted (an Authorization header, a JSON body): kept for 10 minutes,
                // the OPTIONS round trip is not paid again before each one (Chrome keeps an answer 5 s without it).
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10))
                // x-should-retry too: without it the OpenAI SDK in a browser cannot see it, and re-runs what was retried
                // here; retry-after-ms, which it reads first, and x-request-id, its request_id. ETag, for a flow editor to
                // send back in If-Match. The x-ratelimit-* headers, for a browser app that paces itself by them.
                .WithExposedHeaders(
                    [
                        "Retry-After", Hosting.ErrorResponses.RetryAfterMsHeader, "Location", "X-Run-Id", Chat.ChatApi.AttemptsHeader,
                        Chat.ChatApi.UpstreamRequestIdHeader, Chat.ChatErrors.ShouldRetryHeader, Chat.ChatApi.RequestIdHeader, "ETag",
                        .. RateLimitHeaders.Names,
                    ])));

        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<LimitsOptions>>((kestrel, limits) =>
            kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBytes);
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.MaxDepth = LimitsOptions.MaxJsonDepth);
        return services;
    }

    /// <summary>
    /// The security middleware, in order: who is calling, may they, how often (the headers and CORS go on earlier, so
    /// that the anonymous OpenAPI document is fetched from an allowed origin too).
    /// </summary>
    public static IApplicationBuilder UseGatewaySecurity(this IApplicationBuilder app) =>
        app.UseAuthentication()
            .UseAuthorization()
            .UseMiddleware<RequestRateLimiting>();
}
