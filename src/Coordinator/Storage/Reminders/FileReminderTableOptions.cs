namespace Plateau.Coordinator.Storage.Reminders;

/// <summary>Options of a <see cref="FileReminderTable"/> (configuration: <c>Plateau:Coordinator:StateDirectory</c>).</summary>
public sealed class FileReminderTableOptions
{
    /// <summary>Folder holding the reminders file, <c>reminders.json</c>.</summary>
    public string Directory { get; set; } = "";
}
