using Gateway.Security;

namespace Gateway.Hosting;

/// <summary>Commands run instead of the server: <c>dotnet run --project src/Gateway -- hash-key</c>.</summary>
internal static class GatewayCommands
{
    /// <returns>The command's exit code; null when the arguments name no command, and the server should run.</returns>
    public static int? Run(string[] args) => Run(args, Console.In, Console.IsInputRedirected, Console.Out, Console.Error);

    /// <summary>
    /// <c>hash-key</c> mints a random key and prints it with its SHA-256 hash. With a key piped on stdin it prints that
    /// key's hash alone, bare, so that <c>$(echo -n "$KEY" | ... hash-key)</c> is the hash and the key need not appear
    /// on a command line or in shell history. An empty stdin is a mistake (an unset variable, say), not a wish for a
    /// new key: minting one there would hand the script the hash of a key nobody has.
    /// </summary>
    public static int? Run(IReadOnlyList<string> args, TextReader input, bool inputRedirected, TextWriter output, TextWriter error)
    {
        if (args.Count == 0 || args[0] != "hash-key")
        {
            return null;
        }

        if (!inputRedirected)
        {
            var key = KeyHash.Mint();
            output.WriteLine($"key:  {key}");
            output.WriteLine($"hash: {KeyHash.ComputeHex(key)}");
            output.WriteLine("Give the key to the caller; put only the hash in Gateway:Auth:Keys:N:KeyHash.");
            return 0;
        }

        var piped = input.ReadLine()?.Trim();
        if (string.IsNullOrEmpty(piped))
        {
            error.WriteLine("hash-key: stdin holds no key. Pipe the key to hash, or run hash-key without redirecting stdin to mint a new one.");
            return 1;
        }

        output.WriteLine(KeyHash.ComputeHex(piped));
        return 0;
    }
}
