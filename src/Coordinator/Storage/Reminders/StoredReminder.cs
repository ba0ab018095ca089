namespace Plateau.Coordinator.Storage.Reminders;

/// <summary>One row of <see cref="FileReminderTable"/>'s file. The grain id is kept as text (<c>GrainId.ToString</c>),
/// which <c>GrainId.Parse</c> reads back.</summary>
public sealed record StoredReminder(string GrainId, string ReminderName, DateTime StartAt, TimeSpan Period, string ETag);
