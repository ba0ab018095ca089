namespace Plateau.Coordinator.Jobs;

[GenerateSerializer]
public sealed class JobCatalogState
{
    /// <summary>In submission order.</summary>
    [Id(0)] public List<string> JobIds { get; set; } = [];
}
