using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// deploy/replicas/docker-compose.yml cannot run here (no Docker engine), so it is held to the nginx config that the
/// replica tests do run: every replica nginx sends to is a service of the compose file with that replica id, on PostgreSQL.
/// </summary>
public sealed partial class ReplicaDeploymentTests
{
    private static readonly string Folder = Path.Combine(RepositoryRoot.Path, "deploy", "replicas");

    [Fact]
    public void EveryReplicaInTheNginxConfig_IsAComposeServiceWithThatReplicaId_OnTheSharedPostgres()
    {
        var nginx = File.ReadAllText(Path.Combine(Folder, "nginx.conf"));
        var compose = File.ReadAllText(Path.Combine(Folder, "docker-compose.yml"));

        var replicas = ServerLine().Matches(nginx).Select(match => match.Groups["name"].Value).ToList();

        Assert.Equal(["gateway-1", "gateway-2"], replicas);
        Assert.Contains("least_conn;", nginx, StringComparison.Ordinal);
        Assert.Contains("proxy_buffering off;", nginx, StringComparison.Ordinal);
        foreach (var replica in replicas)
        {
            Assert.Matches($@"(?m)^  {replica}:\s*$", compose);
            Assert.Contains($"Gateway__Cluster__ReplicaId: {replica}", compose, StringComparison.Ordinal);
        }

        Assert.Contains("Gateway__Storage__Provider: postgres", compose, StringComparison.Ordinal);
        Assert.Contains("./nginx.conf:/etc/nginx/nginx.conf:ro", compose, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?m)^\s*server (?<name>[\w-]+):8080\b")]
    private static partial Regex ServerLine();
}
