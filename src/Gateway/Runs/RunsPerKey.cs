using Gateway.Security;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

/// <summary>
/// How many runs each key has executing on this replica, held under <see cref="LimitsOptions.MaxRunsPerKey"/>. A run
/// costs no model tokens to start, nor to render a million characters of templates that are stored several times over
/// (its outputs, its events, its record): without a cap, one key's burst of such runs queued every other key's run
/// behind the store for tens of seconds, and under a memory limit ended them interrupted. Callers without a key are not
/// counted: without keys every caller is <see cref="CallerIdentity.AnonymousName"/>, served only on loopback or on a
/// network trusted as a whole, and one count would let any of them shut the others out.
/// </summary>
internal sealed class RunsPerKey(IOptions<LimitsOptions> limits)
{
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);

    public int Limit => limits.Value.MaxRunsPerKey;

    /// <summary>Counts a run of <paramref name="key"/> in, unless the key already has <see cref="Limit"/> under way.</summary>
    public bool TryEnter(string key)
    {
        if (key == CallerIdentity.AnonymousName)
        {
            return true;
        }

        lock (_running)
        {
            var running = _running.GetValueOrDefault(key);
            if (running >= Limit)
            {
                return false;
            }

            _running[key] = running + 1;
            return true;
        }
    }

    /// <summary>Counts a run of <paramref name="key"/> out, once it has ended (or failed to start).</summary>
    public void Exit(string key)
    {
        if (key == CallerIdentity.AnonymousName)
        {
            return;
        }

        lock (_running)
        {
            if (_running.GetValueOrDefault(key) <= 1)
            {
                _running.Remove(key); // no entry kept per key that ever ran
            }
            else
            {
                _running[key]--;
            }
        }
    }
}
