using Gateway.Flows;

namespace Gateway.Tests.Flows;

public sealed class TemplateTests
{
    private static readonly Dictionary<string, string> Values = new() { ["name"] = "Ada", ["lang"] = "French", ["a-b_c"] = "ok" };

    [Theory]
    [InlineData("Hello {{name}}!", "Hello Ada!")]
    [InlineData("{{ name }} and {{name}}", "Ada and Ada")]
    [InlineData("{{name}}{{lang}}", "AdaFrench")]
    [InlineData("no placeholders", "no placeholders")]
    [InlineData("{{a-b_c}}", "ok")]
    [InlineData("{{not a name}} {name} {{}}", "{{not a name}} {name} {{}}")]
    [InlineData("{{{name}}}", "{Ada}")]
    [InlineData("", "")]
    public void Render_ReplacesEveryPlaceholderAndLeavesOtherBracesAlone(string text, string expected)
    {
        Assert.Equal(expected, Template.Parse(text).Render(name => Values[name]));
    }

    [Fact]
    public void Names_AreDistinctInOrderOfFirstUse()
    {
        Assert.Equal(["lang", "name"], Template.Parse("{{lang}} {{ name }} {{lang}}").Names);
    }

    [Theory]
    [InlineData("Hello {{name}}!")]
    [InlineData("{{ name }} and {{name}}")]
    [InlineData("{{not a name}} {name} {{}}")]
    [InlineData("no placeholders")]
    [InlineData("")]
    public void RenderedLength_IsTheLengthOfTheRenderedText(string text)
    {
        var template = Template.Parse(text);

        Assert.Equal(template.Render(name => Values[name]).Length, template.RenderedLength(name => Values[name]));
    }

    [Fact]
    public void Render_DoesNotReadValuesAsTemplates()
    {
        Assert.Equal("say {{lang}}", Template.Parse("say {{name}}").Render(_ => "{{lang}}"));
    }
}
