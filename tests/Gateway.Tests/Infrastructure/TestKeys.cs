using Gateway.Security;

namespace Gateway.Tests.Infrastructure;

/// <summary>Caller keys for tests, configured as the gateway expects them: by SHA-256 hash.</summary>
public static class TestKeys
{
    public const string Admin = "gw-test-admin-5c3e81";
    public const string Client = "gw-test-client-9d02aa";
    public const string EchoOnly = "gw-test-echo-only-71be44";
    public const string Limited = "gw-test-limited-0a9f13";

    public static Dictionary<string, string?> WithKey(
        this Dictionary<string, string?> settings, int index, string name, string key, string role = "client",
        string[]? models = null, int? requestsPerMinute = null, int? tokensPerMinute = null)
    {
        var path = $"Gateway:Auth:Keys:{index}";
        settings[$"{path}:Name"] = name;
        settings[$"{path}:KeyHash"] = KeyHash.ComputeHex(key);
        settings[$"{path}:Role"] = role;
        for (var i = 0; i < (models?.Length ?? 0); i++)
        {
            settings[$"{path}:Models:{i}"] = models![i];
        }

        if (requestsPerMinute is { } rpm)
        {
            settings[$"{path}:RequestsPerMinute"] = rpm.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (tokensPerMinute is { } tpm)
        {
            settings[$"{path}:TokensPerMinute"] = tpm.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return settings;
    }

    /// <summary>An admin, a client with every model, and a client limited to <c>echo</c>.</summary>
    public static Dictionary<string, string?> WithStandardKeys(this Dictionary<string, string?> settings) => settings
        .WithKey(0, "ops", Admin, role: "admin")
        .WithKey(1, "app", Client)
        .WithKey(2, "echo-app", EchoOnly, models: ["echo"]);

    public static HttpRequestMessage Request(HttpMethod method, string path, string? key = null, HttpContent? content = null, bool asApiKeyHeader = false)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null)
        {
            if (asApiKeyHeader)
            {
                request.Headers.Add("x-api-key", key);
            }
            else
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }
        }

        return request;
    }
}
