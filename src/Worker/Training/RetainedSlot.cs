using Plateau.Contracts.Rendezvous;

namespace Plateau.Worker.Training;

/// <summary>
/// One device's kept state across generations: the trainer that ends puts it here, the worker's next
/// registration announces it, and the next generation's trainer takes it when it is the source rank.
/// Holds at most one (the newest), in host memory.
/// </summary>
public sealed class RetainedSlot
{
    private readonly Lock _lock = new();
    private RetainedTraining? _kept;

    /// <summary>What is kept, or null.</summary>
    public RetainedState? State
    {
        get
        {
            lock (_lock)
            {
                return _kept?.State;
            }
        }
    }

    /// <summary>Keeps <paramref name="retained"/> in place of anything kept before.</summary>
    public void Keep(RetainedTraining retained)
    {
        ArgumentNullException.ThrowIfNull(retained);
        lock (_lock)
        {
            _kept?.Dispose();
            _kept = retained;
        }
    }

    /// <summary>Hands over the kept state when it is exactly <paramref name="wanted"/>; the caller owns it then.</summary>
    public RetainedTraining? Take(RetainedState wanted)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        lock (_lock)
        {
            if (_kept is null || _kept.State != wanted)
            {
                return null;
            }

            var taken = _kept;
            _kept = null;
            return taken;
        }
    }

    /// <summary>Drops what is kept (a generation started from elsewhere, or the worker stops).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _kept?.Dispose();
            _kept = null;
        }
    }
}
