using Gateway.Security;

namespace Gateway.Tests.Storage;

public sealed class LocalRateBucketsContractTests : RateBucketsContractTests
{
    private protected override Task<IRateBuckets> OpenAsync() => Task.FromResult<IRateBuckets>(new LocalRateBuckets(TimeProvider.System));
}
