"""The privacy notice a citizen accepts before submitting (PDPA s.23); its version is kept with the matter."""
from __future__ import annotations

from app.tenancy.models import Tenant

# used until the organisation writes its own (องค์กร → ตั้งค่าองค์กร)
DEFAULT_NOTICE_TH = """{name} (ผู้ควบคุมข้อมูลส่วนบุคคล) เก็บรวบรวมและใช้ข้อมูลส่วนบุคคลที่ท่านกรอกในแบบคำขอนี้ เช่น ชื่อ ที่อยู่ หมายเลขโทรศัพท์ อีเมล เลขประจำตัวประชาชน และเอกสารแนบ เพื่อพิจารณาและดำเนินการตามคำขอ ติดต่อกลับ และแจ้งผลแก่ท่าน ตามอำนาจหน้าที่ตามกฎหมาย (พระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562 มาตรา 24 (4) และ (5))

ข้อมูลจะถูกเปิดเผยเฉพาะแก่เจ้าหน้าที่ที่เกี่ยวข้อง และหน่วยงานอื่นที่ต้องดำเนินการต่อในกรณีที่เรื่องอยู่ในอำนาจหน้าที่ของหน่วยงานนั้น และจะเก็บไว้ตามระยะเวลาที่ระเบียบว่าด้วยงานสารบรรณกำหนด

ท่านมีสิทธิขอเข้าถึง ขอสำเนา ขอแก้ไข ขอลบ หรือคัดค้านการประมวลผลข้อมูลส่วนบุคคลของท่าน โดยติดต่อ{name}{phone} และมีสิทธิร้องเรียนต่อสำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล"""


def notice(tenant: Tenant) -> tuple[int, str]:
    """(version, text) of the notice in force for this organisation."""
    text = tenant.privacy_notice_th or DEFAULT_NOTICE_TH.format(
        name=tenant.name_th, phone=f" โทร. {tenant.phone}" if tenant.phone else "")
    return tenant.privacy_version, text
