using System.Collections.Concurrent;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.Swagger;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>
/// The OpenAPI document, generated once: Swashbuckle builds it anew for every request (~35 ms of CPU for the gateway's
/// ~190 KB), and the document is served to anyone, without a key or a rate limit, so a few callers asking for it in a
/// loop held the two cores that stream everyone's tokens. The endpoints, and so the document, are fixed once the
/// gateway has started. A failure (an unknown document name) is not kept, so nothing a caller names is stored.
/// </summary>
internal sealed class CachedSwaggerProvider(IServiceProvider services) : ISwaggerProvider, IAsyncSwaggerProvider
{
    private readonly ConcurrentDictionary<(string Name, string? Host, string? BasePath), Task<OpenApiDocument>> _documents = new();

    public OpenApiDocument GetSwagger(string documentName, string? host = null, string? basePath = null) =>
        GetSwaggerAsync(documentName, host, basePath).GetAwaiter().GetResult();

    public async Task<OpenApiDocument> GetSwaggerAsync(string documentName, string? host = null, string? basePath = null)
    {
        var key = (documentName, host, basePath);
        if (_documents.TryGetValue(key, out var cached))
        {
            return await cached;
        }

        // Two first requests at once may both generate it, each with a generator of its own (Swashbuckle's are made
        // for one request); the one stored is served from then on.
        var document = await services.GetRequiredService<SwaggerGenerator>().GetSwaggerAsync(documentName, host, basePath);
        return await _documents.GetOrAdd(key, Task.FromResult(document));
    }
}
