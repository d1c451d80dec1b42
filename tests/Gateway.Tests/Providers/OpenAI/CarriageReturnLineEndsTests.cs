using System.Net.ServerSentEvents;
using System.Text;
using Gateway.Providers.OpenAI;

namespace Gateway.Tests.Providers.OpenAI;

public class CarriageReturnLineEndsTests
{
    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    [InlineData("mixed")]
    public async Task TheEventsAreThoseOfTheBytesAsSent_WhereverTheReadsCutThem(string lineBreak)
    {
        var random = new Random(lineBreak.Length);
        var text = new StringBuilder();
        string[] mixed = ["\n", "\r\n", "\r"];
        string Break() => lineBreak == "mixed" ? mixed[random.Next(mixed.Length)] : lineBreak;
        for (var i = 0; i < 200; i++)
        {
            text.Append(": ping").Append(Break());
            text.Append("data: {\"n\":").Append(i).Append(',').Append(Break()).Append("data:\"x\"}").Append(Break());
            text.Append(Break());
            if (i % 7 == 0)
            {
                text.Append(Break()); // a blank line more dispatches nothing
            }
        }

        var input = Encoding.UTF8.GetBytes(text.ToString());
        var expected = await EventsAsync(new MemoryStream(input));

        Assert.InRange(expected.Count, 150, 200); // mixed: a CR then an LF is one CR LF
        foreach (var size in new[] { 1, 2, 3, 5, 7, 64, 4096 })
        {
            Assert.Equal(expected, await EventsAsync(new CarriageReturnLineEnds(new Trickle(input, size))));
        }
    }

    private static async Task<List<string>> EventsAsync(Stream stream)
    {
        var events = new List<string>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync())
        {
            events.Add(item.Data);
        }

        return events;
    }

    /// <summary>A body that gives at most <paramref name="size"/> bytes a read.</summary>
    private sealed class Trickle(byte[] data, int size) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, size)], cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, size));
    }
}
