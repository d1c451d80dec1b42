using System.Security.Cryptography;

namespace Gateway.Chat;

/// <summary>
/// Ids for completions: <c>chatcmpl-</c> and 32 hex digits, as long as a <see cref="Guid"/>'s. A random half drawn
/// once per process and a counted half make them unique without asking the operating system for randomness on
/// every call, as <see cref="Guid.NewGuid"/> does (a read of <c>/dev/urandom</c>, on the first token's way).
/// </summary>
internal static class CompletionIds
{
    private const string Prefix = "chatcmpl-";
    private static readonly ulong ProcessPart = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
    private static readonly ulong MixKey = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
    private static long _count;

    public static string Next()
    {
        // Mixed, so an id does not tell how many completions this process served; a bijection, so no two collide.
        var counted = Mix((ulong)Interlocked.Increment(ref _count) ^ MixKey);
        return string.Create(Prefix.Length + 32, counted, static (chars, counted) =>
        {
            Prefix.AsSpan().CopyTo(chars);
            ProcessPart.TryFormat(chars[Prefix.Length..], out _, "x16");
            counted.TryFormat(chars[(Prefix.Length + 16)..], out _, "x16");
        });
    }

    // SplitMix64's finaliser: every step is invertible, so distinct counts give distinct ids.
    private static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }
}
