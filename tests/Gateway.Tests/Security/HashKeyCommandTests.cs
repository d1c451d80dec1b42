using Gateway.Hosting;
using Gateway.Security;

namespace Gateway.Tests.Security;

public sealed class HashKeyCommandTests
{
    [Fact]
    public void HashKey_MintsAKey_AndPrintsItsSha256()
    {
        using var output = new StringWriter();

        Assert.True(GatewayCommands.TryRun(["hash-key"], TextReader.Null, inputRedirected: false, output));

        var lines = output.ToString().Split('\n');
        var key = lines[0]["key:  ".Length..].Trim();
        var hash = lines[1]["hash: ".Length..].Trim();
        Assert.StartsWith("gw-", key, StringComparison.Ordinal);
        Assert.True(key.Length >= 40);
        Assert.Equal(KeyHash.ComputeHex(key), hash);
        Assert.True(KeyHash.IsHex(hash));
    }

    [Fact]
    public void HashKey_WithAKeyOnStdin_PrintsOnlyItsHash()
    {
        using var output = new StringWriter();

        GatewayCommands.TryRun(["hash-key"], new StringReader("my-secret-key\n"), inputRedirected: true, output);

        Assert.Equal("hash: " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("my-secret-key"u8)), output.ToString().Trim());
        Assert.DoesNotContain("my-secret-key", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TwoMintedKeys_Differ()
    {
        Assert.NotEqual(KeyHash.Mint(), KeyHash.Mint());
    }

    [Theory]
    [InlineData]
    [InlineData("--urls", "http://127.0.0.1:0")]
    public void OtherArguments_RunTheServer(params string[] args)
    {
        Assert.False(GatewayCommands.TryRun(args, TextReader.Null, inputRedirected: false, TextWriter.Null));
    }
}
