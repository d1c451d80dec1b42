using System.Runtime.InteropServices;
using Gateway.Streaming;

namespace Gateway.Hosting;

/// <summary>
/// The signals that stop the gateway, beyond what the host does with them:
/// <list type="bullet">
/// <item>SIGHUP (the terminal or session that started the gateway closed) stops it as SIGTERM does, through the
/// shutdown drain. The host handles SIGTERM, SIGINT and SIGQUIT, not SIGHUP, whose default action ended the process at
/// once: streams were cut mid-token without their error event and runs left running until the next start. Not a
/// reload, as nginx's is: the gateway runs on its settings as they were at start (<see cref="SettingsAtStart"/>), so a
/// restart is what applies a change.</item>
/// <item>A second stop signal (Ctrl+C again) cuts the drain short (<see cref="ShutdownDrain.Hurry"/>): the host ignored
/// it, and an operator waited the drain out or killed the process, its streams without their final events.</item>
/// </list>
/// </summary>
internal sealed partial class StopSignals(IHostApplicationLifetime lifetime, ShutdownDrain drain, ILogger<StopSignals> logger)
    : IHostedService, IDisposable
{
    private static readonly PosixSignal[] Stopping = [PosixSignal.SIGHUP, PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT];

    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _received;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsWindows())
        {
            foreach (var signal in Stopping)
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, Received));
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void Received(PosixSignalContext context)
    {
        // The process stops through the host, never by the signal's default action.
        context.Cancel = true;
        if (Interlocked.Increment(ref _received) > 1)
        {
            drain.Hurry();
            return;
        }

        if (context.Signal == PosixSignal.SIGHUP)
        {
            LogHangup(logger);
        }

        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "SIGHUP received (the terminal or session that started the gateway closed): stopping as for SIGTERM, through the shutdown drain")]
    private static partial void LogHangup(ILogger logger);
}
