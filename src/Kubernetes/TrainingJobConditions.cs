namespace Plateau.Kubernetes;

/// <summary>The condition types a TrainingJob's status carries.</summary>
public static class TrainingJobConditions
{
    /// <summary>True once the job exists in the coordinator; False (reason InvalidName/InvalidSpec) when it was refused.</summary>
    public const string Submitted = "Submitted";

    /// <summary>True while the object's spec is the submitted one; False (SpecUpdateRefused) after an edit.</summary>
    public const string SpecApplied = "SpecApplied";
}
