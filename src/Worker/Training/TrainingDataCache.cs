using System.Globalization;
using System.Text;
using JobDatasetSpec = Plateau.Contracts.Specs.DatasetSpec;

namespace Plateau.Worker.Training;

/// <summary>
/// The datasets this worker process has open, shared by its registrar and every local rank: a dataset is
/// opened (its folder scanned, its shard index read) once while anyone holds it, not once for the
/// registration and again per rank and generation. Sharing is safe because datasets serve concurrent reads
/// and transforms are stateless.
/// </summary>
public sealed class TrainingDataCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _open = new(StringComparer.Ordinal);

    /// <summary>How many datasets are open now (for tests and diagnostics).</summary>
    public int OpenCount
    {
        get
        {
            lock (_lock)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>The spec's dataset, opened now unless a holder already has it open; dispose the lease to let go.
    /// Errors are <see cref="TrainingData.Open"/>'s, and a failed open is not remembered.</summary>
    public TrainingDataLease Acquire(JobDatasetSpec spec, long seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var key = KeyOf(spec, seed);
        lock (_lock)
        {
            if (!_open.TryGetValue(key, out var entry))
            {
                // Opened under the lock: a second rank asking for the same data waits for this scan instead of repeating it.
                entry = new Entry(TrainingData.Open(spec, seed));
                _open.Add(key, entry);
            }

            entry.Holders++;
            return new TrainingDataLease(entry.Data, () => Release(key, entry));
        }
    }

    private void Release(string key, Entry entry)
    {
        lock (_lock)
        {
            if (--entry.Holders > 0)
            {
                return;
            }

            _open.Remove(key);
        }

        entry.Data.Dispose();
    }

    /// <summary>Kind, path, options (ordered by name) and seed: the synthetic set's folder depends on the seed.</summary>
    private static string KeyOf(JobDatasetSpec spec, long seed)
    {
        var key = new StringBuilder();
        key.Append(spec.Kind?.ToString() ?? "-").Append('\0').Append(spec.Path ?? string.Empty).Append('\0')
            .Append(seed.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in spec.Options.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            key.Append('\0').Append(name).Append('=').Append(value);
        }

        return key.ToString();
    }

    private sealed class Entry(TrainingData data)
    {
        public TrainingData Data { get; } = data;

        public int Holders { get; set; }
    }
}
