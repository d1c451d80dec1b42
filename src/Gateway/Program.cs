using Gateway.Hosting;

if (GatewayCommands.TryRun(args))
{
    return;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // The one appsettings.json lives at the repository root and is copied next to the binaries, so the
    // content root is the binaries' folder both under `dotnet run --project src/Gateway` and when published.
    ContentRootPath = AppContext.BaseDirectory,
});

builder.AddGateway();

var app = builder.Build();
app.MapGateway();
app.Run();
