using Microsoft.Extensions.Options;

namespace Gateway.Streaming;

internal static class StreamingServiceCollectionExtensions
{
    /// <summary><c>Gateway:Streaming</c>, shared by both APIs' event streams, validated at start-up, and the drain at shutdown.</summary>
    public static IServiceCollection AddStreaming(this IServiceCollection services)
    {
        services.AddOptions<StreamingOptions>().BindConfiguration(StreamingOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreamingOptions>, StreamingOptionsValidator>();
        services.AddSingleton<ShutdownDrain>();
        services.AddHostedService(provider => provider.GetRequiredService<ShutdownDrain>());
        // The host waits for the drain and what follows it, and no longer: past that, connections are cut.
        services.AddOptions<HostOptions>().Configure<IOptions<StreamingOptions>>((host, streaming) =>
            host.ShutdownTimeout = streaming.Value.ShutdownDrain + ShutdownDrain.Margin);
        return services;
    }
}
