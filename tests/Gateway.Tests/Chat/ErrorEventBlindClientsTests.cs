using Gateway.Chat;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Chat;

/// <summary>Which clients' failed streams are cut after their error event: the .NET SDK's, whatever else its User-Agent names.</summary>
public sealed class ErrorEventBlindClientsTests
{
    [Theory]
    [InlineData("OpenAI/2.15.0 (.NET 10.0.12; Debian GNU/Linux 12 (bookworm))", true)]
    [InlineData("OpenAI/2.15.0 (.NET 10.0.12; Debian GNU/Linux 12 (bookworm)) MEAI/10.5.0", true)]
    [InlineData("Semantic-Kernel OpenAI/2.15.0 (.NET 10.0.12; Debian GNU/Linux 12 (bookworm))", true)]
    [InlineData("MyApp/1.0 OpenAI/2.15.0 (.NET 8.0.11; Microsoft Windows 10.0.26100)", true)]
    [InlineData("OpenAI/JS 6.49.0", false)]
    [InlineData("OpenAI/Python 1.99.0", false)]
    [InlineData("curl/8.14.1", false)]
    [InlineData("", false)]
    public void TheDotnetSdk_ByItsUserAgent(string userAgent, bool cut)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.UserAgent = userAgent;

        Assert.Equal(cut, ErrorEventBlindClients.Sent(context.Request));
    }
}
