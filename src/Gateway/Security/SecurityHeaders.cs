namespace Gateway.Security;

/// <summary>
/// Headers that keep a browser from sniffing, framing or leaking what the gateway returns. Every response is JSON
/// or an event stream read by code, so the content policy allows nothing; only Swagger UI, an HTML page with
/// scripts and styles, is left to its own. And no cache may keep an answer: nginx's <c>proxy_cache</c> ignores
/// <c>Authorization</c>, and served one key's flows and runs to callers with no key at all. (Event streams say
/// <c>no-cache</c> themselves, as DESIGN has them.)
/// </summary>
internal static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            // On starting, so that headers survive the exception handler clearing the response.
            context.Response.OnStarting(static state => Apply((HttpContext)state), context);
            return next(context);
        });

    private static Task Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (!context.Request.Path.StartsWithSegments("/swagger"))
        {
            headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
            if (headers.CacheControl.Count == 0)
            {
                headers.CacheControl = "no-store";
            }
        }

        return Task.CompletedTask;
    }
}
