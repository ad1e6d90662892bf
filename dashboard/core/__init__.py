"""Plain rules and settings with no database: configuration, periods (filters), the working-day
calendar, the glossary, targets and RAG, the one display rule, text and spreadsheet safety.
"""
