using System.Diagnostics;
using Plateau.Contracts.Rendezvous;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.Worker.Training;

/// <summary>The spans of one rank, tagged with job, rank, generation and epoch.</summary>
public static class RankSpans
{
    /// <summary>With <paramref name="traceParent"/> (the plan's) the span is a child of the coordinator's epoch span.</summary>
    public static Activity? Start(string name, Assignment assignment, int epoch, string? traceParent = null)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var span = traceParent is not null && ActivityContext.TryParse(traceParent, null, out var parent)
            ? PlateauActivities.Source.StartActivity(name, ActivityKind.Internal, parent)
            : PlateauActivities.Source.StartActivity(name);
        span?.SetTag(PlateauMetrics.JobIdTag, assignment.JobId)
            .SetTag(PlateauMetrics.RankTag, assignment.Rank)
            .SetTag("plateau.generation", assignment.Generation)
            .SetTag("plateau.epoch", epoch);
        return span;
    }
}
