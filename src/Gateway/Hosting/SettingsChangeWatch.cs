using Microsoft.Extensions.Primitives;

namespace Gateway.Hosting;

/// <summary>
/// Tells an operator who saved a change to the gateway's settings that it waits for a restart (see
/// <see cref="SettingsAtStart"/>), naming the keys and never their values, which may be secrets. Said once per
/// different set of keys: an editor saves a file several times, and each save reloads it.
/// </summary>
internal sealed partial class SettingsChangeWatch(IConfiguration live, IConfiguration atStart, ILogger<SettingsChangeWatch> logger)
    : IHostedService, IDisposable
{
    /// <summary>The most keys a line names: a file replaced wholesale would otherwise fill a screen.</summary>
    private const int MostKeysNamed = 20;

    private readonly Lock _gate = new();
    private IDisposable? _subscription;
    private string _said = "";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = ChangeToken.OnChange(live.GetReloadToken, Check);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _subscription?.Dispose();

    private void Check()
    {
        var changed = SettingsAtStart.ChangedKeys(live, atStart);
        var keys = string.Join(", ", changed.Take(MostKeysNamed)) + (changed.Count > MostKeysNamed ? $" and {changed.Count - MostKeysNamed} more" : "");
        lock (_gate)
        {
            if (keys == _said)
            {
                return;
            }

            _said = keys;
        }

        if (changed.Count == 0)
        {
            LogChangeUndone(logger);
        }
        else
        {
            LogChangeWaitsForRestart(logger, keys);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The gateway's settings changed in its configuration ({Keys}); it runs on them as they were when it started, until it is restarted. Log levels apply at once.")]
    private static partial void LogChangeWaitsForRestart(ILogger logger, string keys);

    [LoggerMessage(Level = LogLevel.Information, Message = "The gateway's settings in its configuration are again those it started with.")]
    private static partial void LogChangeUndone(ILogger logger);
}
