using System.Diagnostics;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// A real Prometheus (Debian's package) on 127.0.0.1 scrapes the gateway every half second, and its query API
/// answers with the gateway's request counter. It runs from a temporary folder and is stopped by its PID.
/// </summary>
public sealed class PrometheusScrapeTests
{
    [Fact]
    public async Task Prometheus_ScrapesTheGateway_AndAnswersAQueryForTheRequestCounter()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());
        using (var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "count me", stream: false)))
        {
            response.EnsureSuccessStatusCode();
        }

        var directory = Directory.CreateTempSubdirectory("gateway-prometheus-");
        var port = FreePort.Next();
        var config = Path.Combine(directory.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 500ms
              scrape_timeout: 400ms
            scrape_configs:
              - job_name: gateway
                static_configs:
                  - targets: ['{gateway.BaseAddress.Authority}']
            """);
        using var prometheus = Process.Start(new ProcessStartInfo(Tool.Require("prometheus"),
            [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory.FullName, "data")}",
             $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var log = prometheus.StandardError.ReadToEndAsync();
        try
        {
            var result = await QueryUntilAnsweredAsync(port, "gateway_requests_total{gen_ai_request_model=\"echo\"}", prometheus, log);

            Assert.Equal("1", result["value"]![1]!.GetValue<string>());
            Assert.Equal("success", result["metric"]!["gateway_outcome"]!.GetValue<string>());
            Assert.Equal("gateway", result["metric"]!["job"]!.GetValue<string>());
        }
        finally
        {
            prometheus.Kill();
            await prometheus.WaitForExitAsync();
            directory.Delete(recursive: true);
        }
    }

    private static async Task<JsonNode> QueryUntilAnsweredAsync(int port, string query, Process prometheus, Task<string> log)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(prometheus.HasExited, $"prometheus exited ({(prometheus.HasExited ? prometheus.ExitCode : 0)}): {(log.IsCompleted ? await log : "")}");
            try
            {
                last = await client.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(query));
                if (JsonNode.Parse(last)!["data"]?["result"]?.AsArray() is [{ } first, ..])
                {
                    return first;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Prometheus never answered '{query}' with a sample; last answer: {last}");
    }
}
