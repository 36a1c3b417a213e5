"""WhatsApp-specific content: message templates authored here, reviewed by Meta."""
