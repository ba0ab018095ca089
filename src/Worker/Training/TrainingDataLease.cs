namespace Plateau.Worker.Training;

/// <summary>One holder's use of a dataset from <see cref="TrainingDataCache"/>; disposing it lets go (once), and the
/// last holder's release closes the dataset.</summary>
public sealed class TrainingDataLease : IDisposable
{
    private Action? _release;

    internal TrainingDataLease(TrainingData data, Action release)
    {
        Data = data;
        _release = release;
    }

    public TrainingData Data { get; }

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
