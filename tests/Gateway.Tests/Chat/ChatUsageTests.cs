using Gateway.Chat;
using Microsoft.Extensions.AI;

namespace Gateway.Tests.Chat;

public sealed class ChatUsageTests
{
    [Fact]
    public void WithoutATotal_TheTotalIsTheSum()
    {
        var usage = ChatUsage.From(new UsageDetails { InputTokenCount = 12, OutputTokenCount = 30 });

        Assert.Equal((12L, 30L, 42L), (usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens));
    }

    [Fact]
    public void AnUpstreamsAbsurdCounts_SumToTheLargestCount_NotANegativeOne()
    {
        var usage = ChatUsage.From(new UsageDetails { InputTokenCount = long.MaxValue, OutputTokenCount = long.MaxValue });

        Assert.Equal(long.MaxValue, usage.TotalTokens);
    }
}
