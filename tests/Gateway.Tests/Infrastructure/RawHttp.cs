using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A request written byte for byte, for what <see cref="HttpClient"/> will not send (a chunk size past 2^31, a
/// <c>Transfer-Encoding</c> of <c>gzip, chunked</c>): the whole answer as text, status line and headers included.
/// </summary>
public static class RawHttp
{
    /// <param name="baseAddress">The gateway's address.</param>
    /// <param name="request">The request as sent; it should say <c>Connection: close</c>, so the answer ends.</param>
    public static async Task<string> ExchangeAsync(Uri baseAddress, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request));
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(15));
    }
}
