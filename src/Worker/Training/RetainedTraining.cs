using Plateau.Contracts.Rendezvous;

namespace Plateau.Worker.Training;

/// <summary>A device's state kept in host memory after its generation ended (<see cref="RetainedState"/> says
/// where it stands), until the next generation either starts from it or starts elsewhere.</summary>
public sealed class RetainedTraining(CheckpointSnapshot snapshot, RetainedState state) : IDisposable
{
    public RetainedState State { get; } = state ?? throw new ArgumentNullException(nameof(state));

    /// <summary>Loads weights, BN statistics and momentum into <paramref name="step"/>.</summary>
    public void Restore(DataParallelStep step) =>
        CheckpointSnapshot.Load(snapshot.Tensors, step, $"the state kept in memory after step {State.GlobalStep} of generation {State.Generation}");

    public void Dispose() => snapshot.Dispose();
}
