namespace Plateau.Contracts.Training;

/// <summary>
/// The one rule for how many optimiser steps an epoch has and where each leaves the cursor; the
/// coordinator's plans and the workers' checkpoints both use it, so they always agree. Global batch k from
/// cursor c covers the epoch order's positions [c + kB, min(c + (k+1)B, N)); with <c>dropLast</c> (PyTorch's
/// <c>drop_last=True</c>) the partial last one is not trained, without it it is one more, smaller step.
/// </summary>
public static class EpochSteps
{
    /// <summary>Steps from <paramref name="cursor"/> to the end of the epoch: ⌊(N − c)/B⌋, or ⌈(N − c)/B⌉ without dropLast.</summary>
    public static long From(long trainSamples, long cursor, int globalBatch, bool dropLast)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(globalBatch);
        var left = Math.Max(0, trainSamples - cursor);
        return dropLast ? left / globalBatch : (left + globalBatch - 1) / globalBatch;
    }

    /// <summary>The cursor after <paramref name="steps"/> steps from <paramref name="cursor"/>: never past the epoch's end.</summary>
    public static long CursorAfter(long trainSamples, long cursor, long steps, int globalBatch) =>
        Math.Min(trainSamples, cursor + (steps * globalBatch));

    /// <summary>Samples in the global batch that starts at <paramref name="cursor"/> (B, or fewer for the last one).</summary>
    public static int BatchAt(long trainSamples, long cursor, int globalBatch) =>
        (int)Math.Clamp(trainSamples - cursor, 0, globalBatch);
}
