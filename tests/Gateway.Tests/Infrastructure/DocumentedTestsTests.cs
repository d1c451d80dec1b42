using System.Reflection;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Infrastructure;

/// <summary>The failure tables of docs/RESILIENCE.md name the tests that prove each row: those tests exist.</summary>
public sealed partial class DocumentedTestsTests
{
    [Fact]
    public void EveryTestNamedInResilienceMd_Exists()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "RESILIENCE.md"));
        var methods = typeof(DocumentedTestsTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Select(method => $"{type.Name}.{method.Name}"))
            .ToHashSet(StringComparer.Ordinal);

        var named = TestName().Matches(text).Select(match => match.Groups["test"].Value).Distinct().ToList();

        Assert.True(named.Count > 30, $"only {named.Count} test names found: the pattern no longer reads the tables");
        var missing = named.Where(name => !methods.Contains(name)).ToList();
        Assert.True(missing.Count == 0, "named in docs/RESILIENCE.md but not a test: " + string.Join(", ", missing));
    }

    // `Folder/Class.Method` or `Class.Method` in backticks, as the tables' last column writes them.
    [GeneratedRegex(@"`(?:[A-Za-z]+/)*(?<test>[A-Z]\w*Tests\.[A-Z]\w+)`")]
    private static partial Regex TestName();
}
