using Gateway.Security;

namespace Gateway.Tests.Security;

public sealed class CallerIdentityTests
{
    private static CallerIdentity Caller(string name, string role, params string[] models) =>
        CallerIdentity.From(CallerIdentity.Principal(name, role, models, "test"));

    [Fact]
    public void Client_SeesOnlyItsOwnRuns()
    {
        var caller = Caller("app", GatewayRoles.Client);

        Assert.True(caller.CanSee("app"));
        Assert.False(caller.CanSee("other"));
        Assert.False(caller.CanSee("APP"));
        Assert.False(caller.CanSee(null));
        Assert.False(caller.IsAdmin);
    }

    [Fact]
    public void Admin_SeesEveryRun()
    {
        var caller = Caller("ops", GatewayRoles.Admin);

        Assert.True(caller.IsAdmin);
        Assert.True(caller.CanSee("app"));
        Assert.True(caller.CanSee(null));
    }

    [Fact]
    public void NoModelList_AllowsEveryModel()
    {
        var caller = Caller("app", GatewayRoles.Client);

        Assert.True(caller.CanUseModel("anything"));
        Assert.Null(caller.FirstDisallowedModel(["echo", "lorem"]));
    }

    [Fact]
    public void ModelList_AllowsOnlyItsModels_AndNamesTheFirstOther()
    {
        var caller = Caller("app", GatewayRoles.Client, "echo", "gpt-4o-mini");

        Assert.True(caller.CanUseModel("echo"));
        Assert.False(caller.CanUseModel("lorem"));
        // Aliases match ignoring case, as the router matches them (ModelRouter.AliasComparer): the same model.
        Assert.True(caller.CanUseModel("Echo"));
        Assert.Equal("lorem", caller.FirstDisallowedModel(["echo", "lorem", "other"]));
    }

    [Fact]
    public void KeyNameAndRole_RoundTripThroughClaims()
    {
        var caller = Caller("ops", GatewayRoles.Admin);

        Assert.Equal("ops", caller.KeyName);
        Assert.Equal(GatewayRoles.Admin, caller.Role);
        Assert.False(caller.IsAnonymous);
    }

    [Fact]
    public void UnauthenticatedPrincipal_IsAWiringMistake()
    {
        Assert.Throws<InvalidOperationException>(() => CallerIdentity.From(new System.Security.Claims.ClaimsPrincipal()));
    }
}
