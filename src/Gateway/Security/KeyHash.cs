using System.Security.Cryptography;
using System.Text;

namespace Gateway.Security;

/// <summary>How keys are minted and hashed: SHA-256 of the UTF-8 bytes, written as lowercase hex.</summary>
internal static class KeyHash
{
    /// <summary>Keys are 256 random bits, so an unsalted fast hash is enough: there is nothing to guess.</summary>
    public static string Mint() => "gw-" + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Compute(ReadOnlySpan<char> key)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(key)];
        Encoding.UTF8.GetBytes(key, bytes);
        try
        {
            return SHA256.HashData(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public static string ComputeHex(string key) => Convert.ToHexStringLower(Compute(key));

    public static bool IsHex(string? hash) =>
        hash is { Length: 64 } && hash.All(char.IsAsciiHexDigit);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
