using Gateway.Security;

namespace Gateway.Hosting;

/// <summary>Commands run instead of the server: <c>dotnet run --project src/Gateway -- hash-key</c>.</summary>
internal static class GatewayCommands
{
    /// <returns>The command's exit code; null when the arguments name no command, and the server should run.</returns>
    public static int? Run(string[] args) => Run(args, Console.In, Console.IsInputRedirected, Console.Out, Console.Error);

    /// <summary>
    /// <c>hash-key</c> mints a random key and prints it with its SHA-256 hash; with a key piped on stdin it prints that
    /// key's hash alone, bare, so that <c>$(echo -n "$KEY" | ... hash-key --stdin)</c> is the hash and the key need not
    /// appear on a command line or in shell history. <c>--stdin</c> makes an empty stdin (an unset variable, say) an
    /// error: minting a key there would hand the script the hash of a key nobody has. Without it an empty or absent
    /// stdin mints, as <c>docker run</c> without <c>-i</c> gives a process an empty stdin.
    /// </summary>
    public static int? Run(IReadOnlyList<string> args, TextReader input, bool inputRedirected, TextWriter output, TextWriter error)
    {
        if (args.Count == 0 || args[0] != "hash-key")
        {
            return null;
        }

        if (args.Count > 2 || (args.Count == 2 && args[1] != "--stdin"))
        {
            error.WriteLine($"hash-key: unknown option '{string.Join(' ', args.Skip(1))}'. Use hash-key to mint a key, or hash-key --stdin to hash a piped one.");
            return 2;
        }

        var keyOnStdin = args.Count > 1 && args[1] == "--stdin";
        var piped = inputRedirected || keyOnStdin ? input.ReadLine()?.Trim() : null;
        if (!string.IsNullOrEmpty(piped))
        {
            output.WriteLine(KeyHash.ComputeHex(piped));
            return 0;
        }

        if (keyOnStdin)
        {
            error.WriteLine("hash-key --stdin: stdin holds no key. Pipe the key to hash, or run hash-key alone to mint a new one.");
            return 1;
        }

        var key = KeyHash.Mint();
        output.WriteLine($"key:  {key}");
        output.WriteLine($"hash: {KeyHash.ComputeHex(key)}");
        output.WriteLine("Give the key to the caller; put only the hash in Gateway:Auth:Keys:N:KeyHash.");
        return 0;
    }
}
