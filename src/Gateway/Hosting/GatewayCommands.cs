using Gateway.Security;

namespace Gateway.Hosting;

/// <summary>Commands run instead of the server: <c>dotnet run --project src/Gateway -- hash-key</c>.</summary>
internal static class GatewayCommands
{
    public static bool TryRun(string[] args) => TryRun(args, Console.In, Console.IsInputRedirected, Console.Out);

    /// <summary>
    /// <c>hash-key</c> mints a random key and prints it with its SHA-256 hash; with a key piped on stdin it prints
    /// that key's hash alone, so the key need not appear on a command line or in shell history.
    /// </summary>
    public static bool TryRun(IReadOnlyList<string> args, TextReader input, bool inputRedirected, TextWriter output)
    {
        if (args.Count == 0 || args[0] != "hash-key")
        {
            return false;
        }

        var piped = inputRedirected ? input.ReadLine()?.Trim() : null;
        if (string.IsNullOrEmpty(piped))
        {
            var key = KeyHash.Mint();
            output.WriteLine($"key:  {key}");
            output.WriteLine($"hash: {KeyHash.ComputeHex(key)}");
            output.WriteLine("Give the key to the caller; put only the hash in Gateway:Auth:Keys:N:KeyHash.");
        }
        else
        {
            output.WriteLine($"hash: {KeyHash.ComputeHex(piped)}");
        }

        return true;
    }
}
