using System.Runtime.InteropServices;

namespace Gateway.Hosting;

/// <summary>
/// SIGHUP (the terminal or session that started the gateway closed) stops it as SIGTERM does, through the shutdown
/// drain. The host handles SIGTERM, SIGINT and SIGQUIT, not SIGHUP, whose default action ended the process at once:
/// streams were cut mid-token without their error event and runs left running until the next start. Not a reload, as
/// nginx's is: the gateway runs on its settings as they were at start (<see cref="SettingsAtStart"/>), so a restart
/// is what applies a change.
/// </summary>
internal sealed partial class HangupStop(IHostApplicationLifetime lifetime, ILogger<HangupStop> logger) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsWindows())
        {
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registration?.Dispose();

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        LogStopping(logger);
        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "SIGHUP received (the terminal or session that started the gateway closed): stopping as for SIGTERM, through the shutdown drain")]
    private static partial void LogStopping(ILogger logger);
}
