using Gateway.Hosting;

if (GatewayCommands.Run(args) is { } exitCode)
{
    return exitCode;
}

WebApplication? app = null;
try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = args,
        // The one appsettings.json lives at the repository root and is copied next to the binaries, so the
        // content root is the binaries' folder both under `dotnet run --project src/Gateway` and when published.
        ContentRootPath = AppContext.BaseDirectory,
    });

    builder.AddGateway();
    app = builder.Build();
    app.MapGateway();
    await app.StartGatewayAsync();
}
catch (Exception exception) when (StartupFailure.Describe(exception) is { } reasons)
{
    // What an operator must fix, said plainly, and a failing exit code; not an unhandled exception's stack and abort.
    // What did start (a lock, a listener, the log queue) is stopped and flushed first.
    if (app is not null)
    {
        await app.DisposeAsync();
    }

    await Console.Error.WriteLineAsync($"The gateway did not start:{Environment.NewLine}{reasons}");
    return 1;
}

await app.WaitForShutdownAsync();
// As Run would: disposing the services flushes what they hold (the log queue, the telemetry exporter, the store).
await app.DisposeAsync();
// Zero, unless a service stopped the gateway for a fault of its own (ReplicaIdLock).
return Environment.ExitCode;
