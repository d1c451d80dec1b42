using Gateway.Hosting;
using Gateway.Security;

namespace Gateway.Tests.Security;

public sealed class HashKeyCommandTests
{
    [Fact]
    public void HashKey_MintsAKey_AndPrintsItsSha256()
    {
        using var output = new StringWriter();

        Assert.Equal(0, GatewayCommands.Run(["hash-key"], TextReader.Null, inputRedirected: false, output, TextWriter.Null));

        var lines = output.ToString().Split('\n');
        var key = lines[0]["key:  ".Length..].Trim();
        var hash = lines[1]["hash: ".Length..].Trim();
        Assert.StartsWith("gw-", key, StringComparison.Ordinal);
        Assert.True(key.Length >= 40);
        Assert.Equal(KeyHash.ComputeHex(key), hash);
        Assert.True(KeyHash.IsHex(hash));
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--stdin", "extra")]
    public void HashKey_WithAnOptionItDoesNotKnow_FailsNamingIt_InsteadOfMintingAKey(params string[] options)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(2, GatewayCommands.Run(["hash-key", .. options], TextReader.Null, inputRedirected: false, output, error));

        Assert.Empty(output.ToString());
        Assert.Contains($"unknown option '{string.Join(' ', options)}'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HashKey_WithAKeyOnStdin_PrintsOnlyItsHash_BareForAShellVariable()
    {
        using var output = new StringWriter();

        Assert.Equal(0, GatewayCommands.Run(["hash-key"], new StringReader("my-secret-key\n"), inputRedirected: true, output, TextWriter.Null));

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("my-secret-key"u8)) + Environment.NewLine, output.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("   \n")]
    public void HashKeyStdin_WithAnEmptyStdin_FailsSayingSo_InsteadOfMintingAKeyNobodyHas(string stdin)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(1, GatewayCommands.Run(["hash-key", "--stdin"], new StringReader(stdin), inputRedirected: true, output, error));

        Assert.Equal("", output.ToString());
        Assert.StartsWith("hash-key --stdin: stdin holds no key.", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HashKey_WithAnEmptyStdin_AsDockerRunGivesWithoutDashI_MintsAKey()
    {
        using var output = new StringWriter();

        Assert.Equal(0, GatewayCommands.Run(["hash-key"], new StringReader(""), inputRedirected: true, output, TextWriter.Null));

        Assert.StartsWith("key:  gw-", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HashKeyStdin_WithAKey_PrintsItsHashBare()
    {
        using var output = new StringWriter();

        Assert.Equal(0, GatewayCommands.Run(["hash-key", "--stdin"], new StringReader("my-secret-key"), inputRedirected: true, output, TextWriter.Null));

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("my-secret-key"u8)) + Environment.NewLine, output.ToString());
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
        Assert.Null(GatewayCommands.Run(args, TextReader.Null, inputRedirected: false, TextWriter.Null, TextWriter.Null));
    }
}
