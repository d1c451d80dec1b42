namespace Gateway.Hosting;

/// <summary>
/// Every GET endpoint answers HEAD too, as HTTP has it (RFC 9110 §9.3.2): the same status and headers, no body.
/// <c>curl -I</c>, uptime monitors (UptimeRobot's HTTP checks send HEAD by default) and load balancers' checks send
/// it, and were told 405: minimal APIs' <c>MapGet</c> matches GET alone. Kestrel drops what a HEAD response writes;
/// an endpoint whose body costs more than the writing (a run's event stream, which would follow the run to its end)
/// asks <see cref="IsHead"/> and leaves it unmade.
/// </summary>
internal static class HeadRequests
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>
    /// Adds HEAD to the methods of every endpoint under <paramref name="builder"/> that matches GET alone. Run last, so
    /// that it sees each endpoint's methods as its own conventions left them; a 405's <c>Allow</c> lists HEAD with them.
    /// </summary>
    public static TBuilder AnswerHeadLikeGet<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(static endpoint =>
        {
            // Routing reads the last of an endpoint's method metadata; it is the one replaced.
            var metadata = endpoint.Metadata;
            for (var index = metadata.Count - 1; index >= 0; index--)
            {
                if (metadata[index] is IHttpMethodMetadata methods)
                {
                    if (methods.HttpMethods is [var only] && HttpMethods.IsGet(only))
                    {
                        metadata[index] = new HttpMethodMetadata(GetAndHead, methods.AcceptCorsPreflight);
                    }

                    return;
                }
            }
        });
        return builder;
    }

    public static bool IsHead(this HttpRequest request) => HttpMethods.IsHead(request.Method);
}

/// <summary>
/// A HEAD's answer where making GET's body costs more than writing it: 200 with the headers GET would send, which
/// <paramref name="setHeaders"/> sets, and no <c>Content-Length</c>, which HTTP lets a HEAD leave out where only making the
/// body would tell it (RFC 9110 §9.3.2). Kestrel adds none to a HEAD's answer either.
/// </summary>
internal sealed class HeadAnswer(Action<HttpResponse> setHeaders) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        setHeaders(httpContext.Response);
        return Task.CompletedTask;
    }
}
