using System.Security.Cryptography;

namespace Gateway.OpenApi;

/// <summary>
/// Serves the OpenAPI document as Swashbuckle rendered it the first time, with an <c>ETag</c>, for GET and HEAD.
/// Swashbuckle generates and serialises it anew for every request (~35 ms of CPU for the gateway's ~190 KB; ~9 ms with
/// the generation alone kept), and the document is served to anyone, without a key or a rate limit: a few callers
/// asking for it in a loop held the two cores that stream everyone's tokens. The endpoints, and so the document, are
/// fixed once the gateway has started. Its middleware answers GET alone, and a HEAD fell through to a 404 or a 401.
/// </summary>
internal sealed class CachedOpenApiDocument(RequestDelegate next, string path) : IDisposable
{
    private readonly SemaphoreSlim _rendering = new(1, 1);
    private Rendered? _document;

    private sealed record Rendered(byte[] Body, string ContentType, string ETag);

    public void Dispose() => _rendering.Dispose();

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) || !request.Path.Equals(path, StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        var document = _document ?? await RenderOnceAsync(context);
        if (document is null)
        {
            return; // Swashbuckle's own answer, not a document, has gone out as it made it
        }

        var response = context.Response;
        response.Headers.ETag = document.ETag;
        if (request.Headers.IfNoneMatch.Contains(document.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = document.ContentType;
        response.ContentLength = document.Body.Length;
        if (HttpMethods.IsGet(request.Method))
        {
            await response.Body.WriteAsync(document.Body, context.RequestAborted);
        }
    }

    /// <summary>
    /// Runs Swashbuckle once, as a GET, into memory; concurrent first requests wait for that one. Anything but a 200
    /// (there is none for a fixed document, but should it fail) is passed on to this request and not kept.
    /// </summary>
    private async Task<Rendered?> RenderOnceAsync(HttpContext context)
    {
        await _rendering.WaitAsync(context.RequestAborted);
        try
        {
            if (_document is { } rendered)
            {
                return rendered;
            }

            var (method, body) = (context.Request.Method, context.Response.Body);
            using var buffer = new MemoryStream();
            context.Request.Method = HttpMethods.Get;
            context.Response.Body = buffer;
            try
            {
                await next(context);
            }
            finally
            {
                (context.Request.Method, context.Response.Body) = (method, body);
            }

            if (context.Response.StatusCode == StatusCodes.Status200OK && context.Response.ContentType is { } contentType)
            {
                var bytes = buffer.ToArray();
                _document = new Rendered(bytes, contentType, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16))}\"");
                context.Response.Headers.ContentLength = null;
                return _document;
            }

            buffer.Position = 0;
            await buffer.CopyToAsync(body, context.RequestAborted);
            return null;
        }
        finally
        {
            _rendering.Release();
        }
    }
}
