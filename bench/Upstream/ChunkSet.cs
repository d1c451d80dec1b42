using System.Text;

namespace Bench.Upstream;

/// <summary>
/// The SSE events of one completion, built once: the first carries the role and the first token (so time to the
/// first event is time to the first token), then one token per event, a finish event and <c>[DONE]</c>.
/// </summary>
internal sealed class ChunkSet
{
    private static readonly string[] Words = [" lorem", " ipsum", " dolor", " sit", " amet", " consectetur", " adipiscing", " elit"];

    public ChunkSet(int tokens)
    {
        Tokens = new byte[tokens][];
        for (var i = 0; i < tokens; i++)
        {
            var role = i == 0 ? "\"role\":\"assistant\"," : "";
            Tokens[i] = Event($"{{{role}\"content\":\"{Words[i % Words.Length]}\"}}", "null");
        }

        Finish = Event("{}", "\"stop\"");
    }

    public static ReadOnlyMemory<byte> Done { get; } = "data: [DONE]\n\n"u8.ToArray();

    public byte[][] Tokens { get; }

    public byte[] Finish { get; }

    private static byte[] Event(string delta, string finishReason) => Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"sim\","
        + $"\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finishReason}}}]}}\n\n");
}
