using Microsoft.Extensions.Options;

namespace Gateway.Tests.Infrastructure;

/// <summary>Options that never change, for a component built by hand outside a host.</summary>
internal sealed class StaticOptionsMonitor<T>(T options) : IOptionsMonitor<T>
{
    public T CurrentValue => options;

    public T Get(string? name) => options;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
