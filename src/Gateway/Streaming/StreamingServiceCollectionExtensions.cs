using Microsoft.Extensions.Options;

namespace Gateway.Streaming;

internal static class StreamingServiceCollectionExtensions
{
    /// <summary><c>Gateway:Streaming</c>, shared by both APIs' event streams, validated at start-up.</summary>
    public static IServiceCollection AddStreaming(this IServiceCollection services)
    {
        services.AddOptions<StreamingOptions>().BindConfiguration(StreamingOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreamingOptions>, StreamingOptionsValidator>();
        return services;
    }
}
