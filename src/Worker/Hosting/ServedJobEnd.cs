using Plateau.Contracts.Jobs;

namespace Plateau.Worker.Hosting;

/// <summary>How serving one job ended: the job reached <paramref name="Phase"/>, or (<paramref name="Rejected"/>) the job
/// refused this worker's registration; <paramref name="Phase"/> is the job's phase then (null: unknown).</summary>
internal sealed record ServedJobEnd(JobPhase? Phase, string Reason, bool Rejected);
