using System.Security.Cryptography;

namespace Gateway.Chat;

/// <summary>
/// Ids for completions: <c>chatcmpl-</c> and 32 random hex digits, as random as a <see cref="Guid"/>'s. The random
/// bytes are drawn for many ids at a time, per thread: <see cref="Guid.NewGuid"/> read <c>/dev/urandom</c> for every
/// id, a system call on the first token's way.
/// </summary>
internal static class CompletionIds
{
    private const string Prefix = "chatcmpl-";
    private const int BytesPerId = 16;
    private const int IdsPerDraw = 256;

    [ThreadStatic]
    private static byte[]? _random;

    [ThreadStatic]
    private static int _used;

    public static string Next()
    {
        var random = _random ??= new byte[BytesPerId * IdsPerDraw];
        if (_used == 0)
        {
            RandomNumberGenerator.Fill(random);
        }

        var offset = _used * BytesPerId;
        _used = (_used + 1) % IdsPerDraw;
        return string.Create(Prefix.Length + (2 * BytesPerId), (random, offset), static (chars, state) =>
        {
            Prefix.AsSpan().CopyTo(chars);
            Convert.TryToHexStringLower(state.random.AsSpan(state.offset, BytesPerId), chars[Prefix.Length..], out _);
        });
    }
}
