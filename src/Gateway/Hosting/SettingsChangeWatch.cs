using Microsoft.Extensions.Primitives;

namespace Gateway.Hosting;

/// <summary>
/// Tells an operator who saved a change to the gateway's settings that it waits for a restart (see
/// <see cref="SettingsAtStart"/>), naming the keys and never their values, which may be secrets; and one who saved a
/// file that cannot be read (a JSON syntax error) that the gateway would not start again with it, where nothing was
/// said at all. Said once per different set of keys or failure: an editor saves a file several times, and each save
/// reloads it.
/// </summary>
internal sealed partial class SettingsChangeWatch(ConfigurationManager live, IConfiguration atStart, ILogger<SettingsChangeWatch> logger)
    : IHostedService, IDisposable
{
    /// <summary>The most keys a line names: a file replaced wholesale would otherwise fill a screen.</summary>
    private const int MostKeysNamed = 20;

    private readonly Lock _gate = new();
    private IDisposable? _subscription;
    private string _said = "";

    /// <summary>Why the last reload of a file failed, until the reload that follows it is looked at.</summary>
    private string? _unreadable;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Set after the first load, so that only a reload's failure is let through: at start a file that cannot be read
        // still stops the gateway. The provider empties what the file gave (the log levels with it) and reloads.
        var read = new List<string>();
        foreach (var file in ((IConfigurationBuilder)live).Sources.OfType<FileConfigurationSource>())
        {
            file.OnLoadException = NoteUnreadable;
            if (file.Path is not null && file.FileProvider?.GetFileInfo(file.Path) is { Exists: true, PhysicalPath: { } path })
            {
                read.Add(path);
            }
        }

        // Which file: under `dotnet run` it is the copy beside the binaries, and an edit of the repository's went unseen.
        if (string.Join(", ", read) is { Length: > 0 } files)
        {
            LogSettingsFiles(logger, files);
        }

        _subscription = ChangeToken.OnChange(((IConfiguration)live).GetReloadToken, Check);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _subscription?.Dispose();

    private void NoteUnreadable(FileLoadExceptionContext context)
    {
        context.Ignore = true;
        Volatile.Write(ref _unreadable, $"{context.Exception.Message} {context.Exception.InnerException?.Message}".TrimEnd());
    }

    private void Check()
    {
        var unreadable = Interlocked.Exchange(ref _unreadable, null);
        var changed = SettingsAtStart.ChangedKeys(live, atStart);
        var keys = string.Join(", ", changed.Take(MostKeysNamed)) + (changed.Count > MostKeysNamed ? $" and {changed.Count - MostKeysNamed} more" : "");
        lock (_gate)
        {
            var said = unreadable ?? keys;
            if (said == _said)
            {
                return;
            }

            _said = said;
        }

        if (unreadable is not null)
        {
            LogUnreadable(logger, unreadable);
        }
        else if (changed.Count == 0)
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Settings read from {Files}: a change there applies at the next start, log levels as it is saved")]
    private static partial void LogSettingsFiles(ILogger logger, string files);

    [LoggerMessage(Level = LogLevel.Information, Message = "The gateway's settings in its configuration are again those it started with.")]
    private static partial void LogChangeUndone(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "A configuration file saved under the gateway cannot be read: {Reason} It runs on its settings as they were when it started, but would not start again with the file as it is; log levels are their defaults until it is mended.")]
    private static partial void LogUnreadable(ILogger logger, string reason);
}
