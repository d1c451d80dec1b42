using System.Text;
using Gateway.Providers;
using Gateway.Providers.OpenAI;

namespace Gateway.Tests.Providers.OpenAI;

public sealed class NormalizingSseStreamTests
{
    private const string Chunk = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task PassesOrdinaryEventsThroughUnchanged_WhateverTheReadSizes(int readSize)
    {
        var input = Chunk + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\n\r\n" + "data: [DONE]\n\n";

        var output = await ReadAllAsync(input, readSize);

        Assert.Equal(input, output);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task RewritesAnUnknownFinishReasonInPlace(int readSize)
    {
        var input = Chunk + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\": \"eos\"}]}\n\n" + Chunk + "data: [DONE]\n\n";

        var output = await ReadAllAsync(input, readSize);

        Assert.Equal(input.Replace("\"eos\"", "\"stop\"", StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task EndingWithoutFinishReasonOrDone_Throws()
    {
        var exception = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync(Chunk + Chunk, 4096));

        Assert.Equal(UpstreamFailure.Connection, exception.Failure);
    }

    [Fact]
    public async Task AnErrorObjectInsideAStringIsNotAnError()
    {
        var input = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"say \\\"error\\\": {}\"},\"finish_reason\":\"stop\"}]}\n\n";

        Assert.Equal(input, await ReadAllAsync(input, 3));
    }

    [Fact]
    public async Task ALineLongerThanTheBuffer_IsPassedWhole()
    {
        var longText = new string('x', 100_000);
        var input = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + longText + "\"},\"finish_reason\":\"stop\"}]}\n\n";

        Assert.Equal(input, await ReadAllAsync(input, 8192));
    }

    private static async Task<string> ReadAllAsync(string input, int readSize)
    {
        await using var stream = new NormalizingSseStream(new MemoryStream(Encoding.UTF8.GetBytes(input)));
        var output = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }
}
