namespace Plateau.Worker.Training;

/// <summary>How a trainer run ended.</summary>
public enum TrainerOutcome
{
    /// <summary>The job said training is over (all epochs or iterations done).</summary>
    Completed,

    /// <summary>Stopped on request (cancel, re-formation, stale generation).</summary>
    Stopped,

    /// <summary>Failed; the failure was reported to the job.</summary>
    Failed,
}
