"""PDF documents (reportlab): Zielvereinbarung, Auskunft nach Art. 15 DSGVO, Fallübersicht and
the statistics report for Controlling.

Every function returns the PDF as bytes, built in memory: nothing is written to disk unless the
caller writes the bytes to a path the user chose (no temporary files). Documents about a person
are recorded in the client's audit trail as "exportiert".
"""
